package dev.qload.quantizers.bnb;

/** bnb's 4-bit data types; the name is what configs and quant-state JSON write. */
enum QuantType {
    NF4("nf4"),
    FP4("fp4");

    final String id;

    QuantType(String id) {
        this.id = id;
    }

    static QuantType parse(String s) {
        for (QuantType t : values()) if (t.id.equals(s)) return t;
        return null;
    }
}
