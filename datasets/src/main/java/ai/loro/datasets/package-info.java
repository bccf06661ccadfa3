/**
 * Data sets for supervised fine-tuning: files ({@link ai.loro.datasets.DatasetReader}: .jsonl, .json,
 * .csv, each also .gz or .zst compressed, and .parquet with snappy, gzip or zstd pages) to rows, rows to
 * conversations or text ({@link ai.loro.datasets.DatasetFormat}),
 * conversations to token ids with loss masks ({@link ai.loro.datasets.ExampleEncoder}), then
 * shuffling/splitting ({@link ai.loro.datasets.Splits}), padding ({@link ai.loro.datasets.Collator})
 * or packing ({@link ai.loro.datasets.Packer}), and statistics ({@link ai.loro.datasets.DatasetStats}).
 * Preference data for DPO and reward models: rows to {@link ai.loro.datasets.PreferencePair}s ({@link
 * ai.loro.datasets.PreferenceFormat}, {@link ai.loro.datasets.OasstTrees}), pairs to token ids sharing the
 * prompt tokens ({@link ai.loro.datasets.PreferenceEncoder}), batches of chosen then rejected rows ({@link
 * ai.loro.datasets.PreferenceCollator}).
 */
package ai.loro.datasets;
