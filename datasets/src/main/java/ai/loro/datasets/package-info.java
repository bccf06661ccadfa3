package ai.loro.datasets;
