"""A plan to exam day: today's reviews and the new questions that cover the syllabus in time."""
