"""What is written for people: the review workbook, the quality report, what the verbs print."""
