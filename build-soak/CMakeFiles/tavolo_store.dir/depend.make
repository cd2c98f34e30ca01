# Empty dependencies file for tavolo_store.
# This may be replaced when dependencies are built.
