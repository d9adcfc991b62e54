"""HTTP serving: the static server (sample portal, headend preview) and the reference set-top-box viewer."""
