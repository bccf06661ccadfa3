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
}
