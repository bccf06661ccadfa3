package ai.loro.dpo;
