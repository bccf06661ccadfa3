package ai.loro.rlhf;
