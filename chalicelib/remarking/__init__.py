"""Re-marking past exams when an editor changes a published question's answer key."""
