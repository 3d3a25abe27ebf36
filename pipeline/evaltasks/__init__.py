"""Evaluation task files (conf/eval/<task>.yaml) and their readers, without torch: the trainer's
`train eval` scores the items, the decontamination job reads the same items to flag dirty ones."""
