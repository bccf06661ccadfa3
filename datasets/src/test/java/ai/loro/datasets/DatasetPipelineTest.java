package ai.loro.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.tokenizer.LoroTokenizer;
import ai.loro.core.tokenizer.TinyTokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File to batches: read, parse, encode, split, pack, collate; loss masks survive packing unchanged. */
class DatasetPipelineTest {
    @TempDir Path dir;

    @Test
    void shareGptToPackedBatches() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            sb.append("{\"conversations\":[{\"from\":\"human\",\"value\":\"question ").append(i)
                    .append("\"},{\"from\":\"gpt\",\"value\":\"answer ").append("z".repeat(i)).append("\"}]}\n");
        }
        Path f = TestData.write(dir, "s.jsonl", sb.toString());
        Path tokDir = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tokDir, "chatml");
        try (LoroTokenizer tok = LoroTokenizer.load(tokDir)) {
            BadRows bad = BadRows.failFast();
            List<Sample> samples = Datasets.load(f, DatasetFormat.SHAREGPT, bad);
            ExampleEncoder enc = new ExampleEncoder(tok, EncodeOptions.of(64));
            List<Example> examples = enc.encodeAll(samples, bad);
            assertEquals(40, enc.stats().encoded());
            assertTrue(enc.stats().truncatedExamples() > 0);
            assertEquals(40, examples.size());
            Splits.Split<Example> split = Splits.split(examples, 0.25, 3);
            assertEquals(10, split.validation().size());
            List<Example> train = Splits.shuffle(split.train(), 11);
            List<PackedRow> rows = Packer.pack(train, 128, Collator.padId(tok));
            Batch b = Collator.collatePacked(rows);
            long trained = train.stream().mapToLong(e -> e.trainableTokens()).sum();
            assertEquals(trained, b.trainableTokens());
            // each segment's decoded trained text is exactly its example's "answer ...<|im_end|>" (or a truncated prefix)
            for (int r = 0; r < b.size(); r++) {
                for (int s = 1; s <= rows.get(r).segments(); s++) {
                    List<Long> ids = new ArrayList<>();
                    List<Long> all = new ArrayList<>();
                    for (int i = 0; i < b.length(); i++) {
                        if (b.segmentIds()[r][i] == s) {
                            all.add(b.inputIds()[r][i]);
                            if (b.lossMask()[r][i]) {
                                ids.add(b.inputIds()[r][i]);
                            }
                        }
                    }
                    String src = rows.get(r).sources().get(s - 1);
                    Example e = train.stream().filter(x -> x.source().equals(src)).findFirst().orElseThrow();
                    assertArrayEquals(e.inputIds(), all.stream().mapToLong(Long::longValue).toArray());
                    assertArrayEquals(e.trainedIds(), ids.stream().mapToLong(Long::longValue).toArray());
                    String text = tok.decode(e.trainedIds(), false);
                    assertTrue(text.startsWith("answer"), text);
                    assertTrue(text.endsWith("<|im_end|>") || e.length() == 64, text);
                }
            }
            assertTrue(Arrays.stream(b.attentionMask()).allMatch(row -> row.length == 128));
        }
    }
}
