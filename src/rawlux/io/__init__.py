"""Reading and writing images: decoders, encoders, metadata and ICC profiles."""
