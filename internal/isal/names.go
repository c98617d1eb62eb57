package isal

// What Decoder says, for the benchmark commands and `reconform version`.
const (
	DecoderISAL    = "ISA-L (libisal.so.2)"
	DecoderBuiltin = "built-in, klauspost/compress (install libisal2 for ISA-L, about three times as fast)"
)
