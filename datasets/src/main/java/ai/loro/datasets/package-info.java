/**
 * Data sets for supervised fine-tuning: files ({@link ai.loro.datasets.DatasetReader}: .jsonl, .json,
 * .csv, .parquet) to rows, rows to conversations or text ({@link ai.loro.datasets.DatasetFormat}),
 * conversations to token ids with loss masks ({@link ai.loro.datasets.ExampleEncoder}), then
 * shuffling/splitting ({@link ai.loro.datasets.Splits}), padding ({@link ai.loro.datasets.Collator})
 * or packing ({@link ai.loro.datasets.Packer}), and statistics ({@link ai.loro.datasets.DatasetStats}).
 */
package ai.loro.datasets;
