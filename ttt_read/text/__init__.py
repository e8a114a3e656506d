"""Files to one text: sources, .gitignore rules, PDFs, file kinds, and token ids with their markers."""
