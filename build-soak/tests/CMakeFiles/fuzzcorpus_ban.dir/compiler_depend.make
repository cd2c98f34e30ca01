# Empty compiler generated dependencies file for fuzzcorpus_ban.
# This may be replaced when dependencies are built.
