package ai.loro.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.tokenizer.TinyTokenizers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DataInspectCommandTest {
    @TempDir Path dir;

    private record Result(int code, String out, String err) {}

    /** Runs `data ...` the way Main does (LoroException -> one line on stderr, exit 1). */
    private Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new DataCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((ex, c, p) -> {
            err.write("error: " + Main.describe(ex) + "\n");
            return 1;
        });
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void inspectWithTokenizer() throws Exception {
        Path f = dir.resolve("d.jsonl");
        Files.writeString(f, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]}\n"
                + "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "q".repeat(300) + "\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n"
                + "not json\n");
        Path tok = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tok, "chatml");
        Result r = run("inspect", f.toString(), "--type", "messages", "--tokenizer", tok.toString(),
                "--sequence-len", "64", "--skip-bad-rows");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("truncated examples"), r.out());
        assertTrue(r.out().contains("1 (50.00%)"), r.out());
        assertTrue(r.out().contains(f + ":3: not valid JSON"), r.out());

        Result bad = run("inspect", f.toString(), "--type", "messages");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("error: " + f + ":3: not valid JSON"), bad.err());

        Result unknown = run("inspect", f.toString(), "--type", "dolly");
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("data set type 'dolly' is not known"), unknown.err());
    }

    /**
     * One small file per preference type, each with two good pairs' worth of rows and one bad row (last line): the
     * report counts pairs, prints prompt/chosen/rejected percentiles and per-side truncation, and names the skipped
     * row; without --skip-bad-rows that row is the one-line error.
     */
    @Test
    void inspectEveryPreferenceType() throws Exception {
        String hh = "{\"chosen\": \"\\n\\nHuman: Hi?\\n\\nAssistant: Hello there, friend!\", "
                + "\"rejected\": \"\\n\\nHuman: Hi?\\n\\nAssistant: No.\"}\n";
        String oasst = "{\"message_id\": \"p\", \"parent_id\": null, \"message_tree_id\": \"t\", \"role\": \"prompter\","
                + " \"text\": \"Hi?\", \"rank\": null}\n"
                + "{\"message_id\": \"a0\", \"parent_id\": \"p\", \"message_tree_id\": \"t\", \"role\": \"assistant\","
                + " \"text\": \"Paris, a city on the Seine.\", \"rank\": 0}\n"
                + "{\"message_id\": \"a1\", \"parent_id\": \"p\", \"message_tree_id\": \"t\", \"role\": \"assistant\","
                + " \"text\": \"Lyon.\", \"rank\": 1}\n";
        String[][] cases = {
            {"preference", "{\"prompt\": \"Add 2 and 3.\", \"chosen\": \"The sum is five.\", \"rejected\": \"No.\"}\n",
                "{\"prompt\": \"Add 2 and 3.\", \"chosen\": \"5\"}\n", "field 'rejected'"},
            {"hh-rlhf", hh, "{\"chosen\": \"\\n\\nHuman: Hi?\\n\\nAssistant: Hey\", \"rejected\": 7}\n", "'rejected'"},
            {"oasst", oasst, "{\"message_id\": \"a2\", \"parent_id\": \"p\", \"message_tree_id\": \"t\", \"rank\": 2}\n",
                "role"},
            {"math-step-dpo", "{\"prompt\": \"1+1?\", \"initial_reason_steps\": \"S1.\\n\", \"chosen\":"
                + " \"Step 2: it is 2, the answer.\", \"rejected\": \"2: 3.\"}\n",
                "{\"prompt\": \"1+1?\", \"chosen\": \"\", \"rejected\": \"x\"}\n", "empty response"},
            {"ultrafeedback", "{\"chosen\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\","
                + " \"content\": \"Hello, how can I help you today?\"}], \"rejected\": [{\"role\": \"user\", \"content\":"
                + " \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Go.\"}], \"score_chosen\": 9, \"score_rejected\": 2}\n",
                "{\"chosen\": [], \"rejected\": []}\n", "chosen"},
        };
        Path tok = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tok, "chatml");
        for (String[] c : cases) {
            String type = c[0];
            Path f = dir.resolve(type + ".jsonl");
            // oasst: the 3 rows of one tree give 1 pair; the others: the row twice gives 2 pairs
            String good = type.equals("oasst") ? c[1] : c[1] + c[1];
            int pairs = type.equals("oasst") ? 1 : 2;
            Files.writeString(f, good + c[2]);
            int badLine = good.split("\n").length + 1;

            Result chars = run("inspect", f.toString(), "--type", type, "--skip-bad-rows");
            assertEquals(0, chars.code(), type + ": " + chars.err());
            assertTrue(chars.out().contains("length (characters)"), type + ": " + chars.out());

            Result r = run("inspect", f.toString(), "--type", type, "--tokenizer", tok.toString(), "--sequence-len", "40",
                    "--skip-bad-rows");
            assertEquals(0, r.code(), type + ": " + r.err());
            String out = r.out();
            assertTrue(out.matches("(?s).*\\|\\s*pairs\\s*\\|\\s*" + pairs + "\\s*\\|.*"), type + ": " + out);
            assertTrue(out.matches("(?s).*rows skipped \\(bad\\)\\s*\\|\\s*1\\s*\\|.*"), type + ": " + out);
            assertTrue(out.contains("length (tokens)") && out.contains("prompt") && out.contains("rejected"), type + ": " + out);
            for (String stat : new String[] {"p50", "p90", "p99", "max", "chosen truncated", "rejected truncated"}) {
                assertTrue(out.contains(stat), type + " " + stat + ": " + out);
            }
            // every chosen answer is longer than 40 tokens with the ChatML prompt around it; no rejected one is
            assertTrue(out.matches("(?s).*chosen truncated\\s*\\|\\s*" + pairs + " \\(100\\.00%\\).*"), type + ": " + out);
            assertTrue(out.matches("(?s).*rejected truncated\\s*\\|\\s*0 \\(0\\.00%\\).*"), type + ": " + out);
            assertTrue(out.contains("Skipped rows (first 1):\n  " + f + ":" + badLine + ": "), type + ": " + out);
            assertTrue(out.substring(out.indexOf("Skipped rows")).contains(c[3]), type + ": " + out);

            Result bad = run("inspect", f.toString(), "--type", type);
            assertEquals(1, bad.code(), type);
            assertTrue(bad.err().startsWith("error: " + f + ":" + badLine + ": ") && bad.err().strip().indexOf('\n') < 0,
                    type + ": " + bad.err());
        }
    }

    /** A table row "| key | value |" as Tablesaw prints it, whitespace-insensitive. */
    private static boolean hasRow(String out, String key, String value) {
        return out.lines().anyMatch(l -> l.replaceAll("\\s+", " ").contains(key + " | " + value));
    }

    @Test
    void promptData() throws Exception {
        Path f = dir.resolve("prompts.jsonl");
        Files.writeString(f, "{\"prompt\": \"hi\", \"answer\": \"ok\"}\n"
                + "{\"messages\": [{\"role\": \"system\", \"content\": \"be\"}, {\"role\": \"user\", \"content\": \"you\"}]}\n"
                + "{\"prompt\": \"" + "q".repeat(300) + "\"}\n"
                + "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}\n");
        // characters: 2, 2 + 3 = 5, 300
        Result chars = run("inspect", f.toString(), "--type", "prompt", "--skip-bad-rows");
        assertEquals(0, chars.code(), chars.err());
        assertTrue(hasRow(chars.out(), "prompts", "3"), chars.out());
        assertTrue(hasRow(chars.out(), "rows skipped (bad)", "1"), chars.out());
        assertTrue(hasRow(chars.out(), "with an answer (for reward functions)", "1 (33.33%)"), chars.out());
        assertTrue(hasRow(chars.out(), "mean", "102.3"), chars.out());
        assertTrue(hasRow(chars.out(), "p50", "5"), chars.out());
        assertTrue(hasRow(chars.out(), "max", "300"), chars.out());
        assertTrue(chars.out().contains(f + ":4: a prompt's 'messages' must end with a user turn"), chars.out());

        Path tok = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tok, "chatml");
        Result tokens = run("inspect", f.toString(), "--type", "prompt", "--tokenizer", tok.toString(), "--sequence-len",
                "64", "--max-new-tokens", "16", "--skip-bad-rows");
        assertEquals(0, tokens.code(), tokens.err());
        assertTrue(hasRow(tokens.out(), "dropped: longer than 48 tokens", "1 (33.33%)"), tokens.out());
        assertTrue(hasRow(tokens.out(), "prompts kept", "2"), tokens.out());
        assertTrue(tokens.out().contains("1 of 3 prompts leave no room for 16 new tokens"), tokens.out());

        Result bad = run("inspect", f.toString(), "--type", "prompt");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("error: " + f + ":4: a prompt's 'messages' must end with a user turn"), bad.err());
        Result noRoom = run("inspect", f.toString(), "--type", "prompt", "--tokenizer", tok.toString(), "--sequence-len",
                "16", "--max-new-tokens", "16");
        assertEquals(1, noRoom.code());
        assertTrue(noRoom.err().contains("--sequence-len 16 leaves no room for a prompt after --max-new-tokens 16"),
                noRoom.err());
    }

    @Test
    void classificationData() throws Exception {
        Path f = dir.resolve("labels.jsonl");
        Files.writeString(f, "{\"text\": \"good\", \"label\": 1}\n"
                + "{\"text\": \"bad\", \"label\": 0}\n"
                + "{\"text\": \"fine\", \"label\": 1}\n"
                + "{\"text\": \"" + "w".repeat(100) + "\", \"label\": \"neutral\"}\n"
                + "{\"text\": \"x\"}\n");
        Result r = run("inspect", f.toString(), "--type", "classification", "--skip-bad-rows");
        assertEquals(0, r.code(), r.err());
        assertTrue(hasRow(r.out(), "texts", "4"), r.out());
        assertTrue(hasRow(r.out(), "distinct labels", "3"), r.out());
        assertTrue(hasRow(r.out(), "0", "1 (25.00%)"), r.out());
        assertTrue(hasRow(r.out(), "1", "2 (50.00%)"), r.out());
        assertTrue(hasRow(r.out(), "neutral", "1 (25.00%)"), r.out());
        assertTrue(hasRow(r.out(), "max", "100"), r.out()); // characters: 4, 3, 4, 100
        assertTrue(hasRow(r.out(), "mean", "27.8"), r.out());
        assertTrue(r.out().contains(f + ":5: field 'label' is null"), r.out());

        Path tok = dir.resolve("tok");
        TinyTokenizers.writeByteLevel(tok, "chatml");
        Result t = run("inspect", f.toString(), "--type", "classification", "--tokenizer", tok.toString(),
                "--sequence-len", "32", "--skip-bad-rows");
        assertEquals(0, t.code(), t.err());
        assertTrue(hasRow(t.out(), "texts truncated", "1 (25.00%)"), t.out());

        Result bad = run("inspect", f.toString(), "--type", "classification");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("error: " + f + ":5: field 'label' is null; allowed:"), bad.err());
    }
}
