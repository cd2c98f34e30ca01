# Empty dependencies file for gameload.
# This may be replaced when dependencies are built.
