# Empty compiler generated dependencies file for fuzzcorpus_ws.
# This may be replaced when dependencies are built.
