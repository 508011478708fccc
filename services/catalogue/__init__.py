"""What can be learnt and where: the topic catalogue and its index, suggested topics, host offers, libraries and regions."""
