# Empty compiler generated dependencies file for tavolo.
# This may be replaced when dependencies are built.
