"""The data ablation (`webmix ablate`): small GPTs trained on recipe variants, compared on held-out
bits per byte. config (the YAML), plan (variant -> stage runs), heldout_sets, run, report, cli."""
