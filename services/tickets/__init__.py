"""Work on tickets: the state machine, actions, queue, working days, ratings, notices, mail."""
