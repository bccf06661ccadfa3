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
}
