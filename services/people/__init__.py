"""Who is who: staff (language, home library, supervisor) and who coordinates which region."""
