"""The idea bank: write-ups of visits, their review, publication and search."""
