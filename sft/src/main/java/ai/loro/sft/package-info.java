package ai.loro.sft;
