package ai.loro.datasets;

import static ai.loro.datasets.PreferenceFormatTest.a;
import static ai.loro.datasets.PreferenceFormatTest.u;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** oasst1 message rows and tree-export rows: ranked sibling replies to pairs, top-ranked paths to SFT data. */
class OasstTreesTest {
    @TempDir Path dir;

    static String msg(String id, String parent, String role, String text, Integer rank, String extra) {
        return "{\"message_id\": \"" + id + "\", \"parent_id\": " + (parent == null ? "null" : "\"" + parent + "\"")
                + ", \"user_id\": \"u\", \"created_date\": \"2023-02-05T14:23:50.983374+00:00\", \"text\": \"" + text
                + "\", \"role\": \"" + role + "\", \"lang\": \"en\", \"review_count\": 3, \"review_result\": true,"
                + " \"deleted\": false, \"rank\": " + rank + ", \"synthetic\": false, \"model_name\": null,"
                + " \"message_tree_id\": \"t1\", \"tree_state\": \"ready_for_export\"" + extra + "}";
    }

    /**
     * Tree t1: p1 (prompter) with ranked replies a1 (rank 1), a0 (rank 0), a2 (rank 2); a0 has the follow-up p2
     * with replies b0 (rank 0) and b1 (rank 1); a deleted reply and a review-rejected reply (with a child) are
     * left out. A second tree r2 with a single unranked reply.
     */
    static List<String> flatRows() {
        return List.of(
                msg("a1", "p1", "assistant", "Paris, I think.", 1, ""),
                msg("p1", null, "prompter", "What is the capital of France?", null, ""),
                msg("a0", "p1", "assistant", "Paris.", 0, ""),
                msg("a2", "p1", "assistant", "Lyon.", 2, ""),
                msg("ax", "p1", "assistant", "spam", null, "").replace("\"deleted\": false", "\"deleted\": true"),
                msg("ay", "p1", "assistant", "rude", null, "").replace("\"review_result\": true", "\"review_result\": false"),
                msg("py", "ay", "prompter", "below rude", null, ""),
                msg("p2", "a0", "prompter", "And of Italy?", 0, ""),
                msg("b1", "p2", "assistant", "Milan.", 1, ""),
                msg("b0", "p2", "assistant", "Rome.", 0, ""),
                msg("r2", null, "prompter", "Say hi.", null, ""),
                msg("s2", "r2", "assistant", "Hi!", null, ""));
    }

    private List<Row> rows(List<String> lines) {
        return DatasetReader.read(TestData.write(dir, "oasst.jsonl", String.join("\n", lines) + "\n"), BadRows.failFast());
    }

    @Test
    void threeRankedRepliesGiveThreeOrderedPairs() {
        List<Row> rs = rows(flatRows());
        List<PreferencePair> ps = PreferenceFormat.OASST.parseAll(rs, BadRows.failFast());
        assertEquals(4, ps.size()); // 3 pairs under p1, 1 under p2
        List<ChatMessage> q = List.of(u("What is the capital of France?"));
        assertEquals(q, ps.get(0).prompt());
        assertEquals(List.of(a("Paris.")), ps.get(0).chosen());
        assertEquals(List.of(a("Paris, I think.")), ps.get(0).rejected());
        assertEquals(List.of(a("Paris.")), ps.get(1).chosen());
        assertEquals(List.of(a("Lyon.")), ps.get(1).rejected());
        assertEquals(List.of(a("Paris, I think.")), ps.get(2).chosen());
        assertEquals(List.of(a("Lyon.")), ps.get(2).rejected());
        for (int i = 0; i < 3; i++) {
            assertEquals(q, ps.get(i).prompt());
            assertTrue(ps.get(i).source().startsWith(rs.get(1).where()), ps.get(i).source());
        }
        // the follow-up: the conversation path is the prompt
        assertEquals(List.of(u("What is the capital of France?"), a("Paris."), u("And of Italy?")), ps.get(3).prompt());
        assertEquals(List.of(a("Rome.")), ps.get(3).chosen());
        assertEquals(List.of(a("Milan.")), ps.get(3).rejected());

        OasstTrees t = OasstTrees.of(rs, BadRows.failFast());
        assertEquals(2, t.trees());
        assertEquals(9, t.messages());
        assertEquals(3, t.skippedMessages()); // ax, ay and py below it
        assertEquals(0, t.orphanMessages());
    }

    @Test
    void topRankedPathsAsSftData() {
        List<Conversation> cs = OasstTrees.topRankedConversations(rows(flatRows()));
        assertEquals(2, cs.size());
        assertEquals(List.of(u("What is the capital of France?"), a("Paris."), u("And of Italy?"), a("Rome.")),
                cs.get(0).messages());
        assertEquals(List.of(u("Say hi."), a("Hi!")), cs.get(1).messages()); // a sole unranked reply is followed
        // a path ending at a prompter message ends at the assistant before it
        List<String> lines = new ArrayList<>(flatRows());
        lines.add(msg("p3", "b0", "prompter", "Thanks!", null, ""));
        assertEquals(cs.get(0).messages(), OasstTrees.topRankedConversations(rows(lines)).get(0).messages());
    }

    @Test
    void treeExportRows() {
        String tree = "{\"message_tree_id\": \"t1\", \"tree_state\": \"ready_for_export\", \"prompt\": {\"message_id\": \"p1\","
                + " \"text\": \"Q?\", \"role\": \"prompter\", \"lang\": \"en\", \"replies\": ["
                + "{\"message_id\": \"a2\", \"parent_id\": \"p1\", \"text\": \"C\", \"role\": \"assistant\", \"rank\": 2, \"replies\": []},"
                + "{\"message_id\": \"a0\", \"parent_id\": \"p1\", \"text\": \"A\", \"role\": \"assistant\", \"rank\": 0, \"replies\": ["
                + "  {\"message_id\": \"p2\", \"parent_id\": \"a0\", \"text\": \"More?\", \"role\": \"prompter\", \"replies\": ["
                + "    {\"message_id\": \"b0\", \"parent_id\": \"p2\", \"text\": \"Yes\", \"role\": \"assistant\", \"rank\": 0},"
                + "    {\"message_id\": \"b1\", \"parent_id\": \"p2\", \"text\": \"No\", \"role\": \"assistant\", \"rank\": 1}]}]},"
                + "{\"message_id\": \"a1\", \"parent_id\": \"p1\", \"text\": \"B\", \"role\": \"assistant\", \"rank\": 1},"
                + "{\"message_id\": \"ad\", \"parent_id\": \"p1\", \"text\": \"D\", \"role\": \"assistant\", \"rank\": 3, \"deleted\": true}"
                + "]}, \"origin\": \"x\"}";
        List<Row> rs = rows(List.of(tree));
        List<PreferencePair> ps = PreferenceFormat.OASST.parseAll(rs, BadRows.failFast());
        assertEquals(4, ps.size());
        assertEquals(ps, PreferenceFormat.OASST.parse(rs.get(0)));
        assertEquals(List.of(a("A")), ps.get(0).chosen());
        assertEquals(List.of(a("B")), ps.get(0).rejected());
        assertEquals(List.of(u("Q?"), a("A"), u("More?")), ps.get(3).prompt());
        assertEquals(List.of(u("Q?"), a("A"), u("More?"), a("Yes")),
                OasstTrees.topRankedConversations(rs).get(0).messages());
    }

    @Test
    void badRows() {
        List<String> lines = new ArrayList<>(flatRows());
        lines.add(2, "{\"parent_id\": \"p1\", \"role\": \"assistant\", \"text\": \"x\"}");
        List<Row> rs = rows(lines);
        LoroException e = assertThrows(LoroException.class, () -> PreferenceFormat.OASST.parseAll(rs, BadRows.failFast()));
        assertTrue(e.getMessage().contains("oasst.jsonl:3: field 'message_id' is missing"), e.getMessage());
        BadRows skip = BadRows.skipAndCount();
        assertEquals(4, PreferenceFormat.OASST.parseAll(rs, skip).size());
        assertEquals(1, skip.count());

        List<String> roles = new ArrayList<>(flatRows());
        roles.set(0, msg("a1", "p1", "bot", "x", 1, ""));
        e = assertThrows(LoroException.class, () -> PreferenceFormat.OASST.parseAll(rows(roles), BadRows.failFast()));
        assertTrue(e.getMessage().contains("oasst.jsonl:1: field 'role' is 'bot'"), e.getMessage());

        List<String> dup = new ArrayList<>(flatRows());
        dup.add(msg("a2", "p1", "assistant", "again", 3, ""));
        e = assertThrows(LoroException.class, () -> PreferenceFormat.OASST.parseAll(rows(dup), BadRows.failFast()));
        assertTrue(e.getMessage().contains("oasst.jsonl:13: field 'message_id' a2 is a duplicate of"), e.getMessage());

        // identical texts of two ranked siblings: that pair is a bad pair
        List<String> same = new ArrayList<>(flatRows());
        same.set(3, msg("a2", "p1", "assistant", "Paris.", 2, ""));
        e = assertThrows(LoroException.class, () -> PreferenceFormat.OASST.parseAll(rows(same), BadRows.failFast()));
        assertTrue(e.getMessage().contains("oasst.jsonl:2") && e.getMessage().contains("identical"), e.getMessage());
        skip = BadRows.skipAndCount();
        assertEquals(3, PreferenceFormat.OASST.parseAll(rows(same), skip).size());
        assertEquals(1, skip.count());

        // a message row alone cannot be parsed
        e = assertThrows(LoroException.class, () -> PreferenceFormat.OASST.parse(rows(flatRows()).get(0)));
        assertTrue(e.getMessage().contains("parseAll"), e.getMessage());

        // a reply whose parent is not in the file is left out and counted
        List<String> orphan = new ArrayList<>(flatRows());
        orphan.add(msg("zz", "missing", "assistant", "lost", 0, ""));
        assertEquals(1, OasstTrees.of(rows(orphan), BadRows.failFast()).orphanMessages());
    }
}
