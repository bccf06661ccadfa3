package ai.loro.lora;
