"""Monthly credit ratings: runs, ratings, objections."""
