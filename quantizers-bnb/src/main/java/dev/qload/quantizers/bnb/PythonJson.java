package dev.qload.quantizers.bnb;

import java.math.BigDecimal;

/**
 * Python's {@code json.dumps} spelling of the few value kinds a quant state holds, so a
 * checkpoint qload writes is byte-identical to one bitsandbytes writes: {@code ", "} and
 * {@code ": "} separators, ints as digits, floats as {@code repr(float)} (the shortest string that
 * reads back to the same double; exponent form below 1e-4 and from 1e16, as {@code 1e-05}).
 */
final class PythonJson {
    private PythonJson() {}

    static String floatRepr(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "Infinity" : "-Infinity";
        if (v == 0) return (1 / v < 0) ? "-0.0" : "0.0";
        // Double.toString gives the shortest round-tripping digits (JDK 19+); re-spell them Python's way.
        BigDecimal d = new BigDecimal(Double.toString(Math.abs(v))).stripTrailingZeros();
        String digits = d.unscaledValue().toString();
        int exponent = digits.length() - 1 - d.scale(); // v = 0.digits × 10^(exponent+1)
        String sign = v < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        String plain = d.toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }

    static String string(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString();
    }
}
