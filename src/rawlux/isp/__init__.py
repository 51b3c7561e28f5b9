"""The image-signal pipeline: one module per stage (see rawlux.pipeline.order for their order)."""
