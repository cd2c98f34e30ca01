# Empty compiler generated dependencies file for tavolo_app.
# This may be replaced when dependencies are built.
