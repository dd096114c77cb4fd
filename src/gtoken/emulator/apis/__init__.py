"""Slices of the Gmail, Drive and Sheets APIs, enough for the programs people write with tokens."""
