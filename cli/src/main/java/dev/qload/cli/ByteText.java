package dev.qload.cli;

/** Byte-level vocabularies: token id = byte value of the UTF-8 text. */
final class ByteText {
    private ByteText() {}

    static int[] encode(String text) {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        return ids;
    }

    /** A byte as a readable token: the character if printable ASCII, else its escape. */
    static String show(int id) {
        if (id == '\n') return "'\\n'";
        if (id >= 0x20 && id < 0x7F) return "'" + (char) id + "'";
        return String.format("0x%02x", id);
    }
}
