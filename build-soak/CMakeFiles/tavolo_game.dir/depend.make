# Empty dependencies file for tavolo_game.
# This may be replaced when dependencies are built.
