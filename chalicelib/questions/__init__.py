"""Question bank: versioned questions, learner views without answers, staff editing and imports."""
