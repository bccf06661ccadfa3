package ai.loro.reward;
