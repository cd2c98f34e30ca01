# Empty dependencies file for tavolo_base.
# This may be replaced when dependencies are built.
