"""Every figure of the book, in one shared style."""
