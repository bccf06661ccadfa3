package ai.loro.datasets;

import ai.loro.core.LoroException;
import ai.loro.core.tokenizer.ChatMessage;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenAssistant (oasst1/oasst2) message trees, built in memory from the rows of a file, and the
 * preference pairs and SFT conversations they hold.
 *
 * <p>Two row layouts are accepted, also mixed: flat message rows (the *.messages.jsonl export and
 * the Hugging Face parquet: message_id, parent_id (null for the root), role "prompter"|"assistant",
 * text, rank (0 = best among siblings, null if unranked), deleted, review_result, ...), linked into
 * trees by parent_id over all rows given; and tree-export rows {"prompt": node with "replies": [...]}.
 * Messages with deleted = true or review_result = false are left out with their whole subtree
 * ({@link #skippedMessages()}); flat rows whose parent is not among the rows are left out too
 * ({@link #orphanMessages()}). A row that is not a message (missing message_id/role/text, unknown
 * role, a duplicate id, a root that is not a prompter, roles not alternating) is a bad row.
 *
 * <p>Pairs: for every prompter message, every two of its ranked assistant replies with different
 * ranks give a pair (chosen = the better rank, i.e. the lower number); the prompt is the conversation
 * from the root to that prompter message. Three ranked replies give three pairs.
 *
 * <p>Top-ranked conversations (SFT data): from each root, follow the best-ranked reply (rank 0;
 * a reply without rank is followed only when it is the sole reply), ending at the last assistant
 * message of that path.
 */
public final class OasstTrees {
    /** One message of a tree. */
    private static final class Node {
        final String id;
        final String parentId;
        final String role;
        final String text;
        final Integer rank;
        final boolean removed;
        final String where;
        final List<Node> children = new ArrayList<>();
        Node parent;

        Node(String id, String parentId, String role, String text, Integer rank, boolean removed, String where) {
            this.id = id;
            this.parentId = parentId;
            this.role = role;
            this.text = text;
            this.rank = rank;
            this.removed = removed;
            this.where = where;
        }
    }

    private final List<Node> roots = new ArrayList<>();
    private int messages;
    private int skipped;
    private int orphans;

    private OasstTrees() {}

    /** Builds the trees of rows; bad rows throw or are skipped and counted by {@code bad}. */
    public static OasstTrees of(List<Row> rows, BadRows bad) {
        OasstTrees t = new OasstTrees();
        t.build(rows, bad);
        return t;
    }

    /** All preference pairs of the trees of rows (see the class comment). */
    public static List<PreferencePair> pairs(List<Row> rows, BadRows bad) {
        return of(rows, bad).pairs(bad);
    }

    /** The top-ranked path of each tree of rows, as SFT conversations; bad rows throw. */
    public static List<Conversation> topRankedConversations(List<Row> rows) {
        return of(rows, BadRows.failFast()).topRankedConversations();
    }

    public static List<Conversation> topRankedConversations(List<Row> rows, BadRows bad) {
        return of(rows, bad).topRankedConversations();
    }

    /** Whether a row is a tree-export row ({"prompt": {...}}) rather than a message row. */
    static boolean isTreeRow(Row row) {
        JsonNode p = row.data().get("prompt");
        return p != null && p.isObject() && !row.data().has("message_id");
    }

    /** Trees (roots kept). */
    public int trees() {
        return roots.size();
    }

    /** Messages kept in the trees. */
    public int messages() {
        return messages;
    }

    /** Messages left out: deleted, review_result false, or below such a message. */
    public int skippedMessages() {
        return skipped;
    }

    /** Flat message rows whose parent_id is not among the rows (left out with their subtrees). */
    public int orphanMessages() {
        return orphans;
    }

    // ---- building -------------------------------------------------------------------------------

    private void build(List<Row> rows, BadRows bad) {
        Map<String, Node> byId = new LinkedHashMap<>();
        for (Row row : rows) {
            try {
                if (isTreeRow(row)) {
                    Node root = treeNode(row, row.data().get("prompt"), "prompt.", null);
                    adopt(root, byId);
                    continue;
                }
                Node n = node(row, row.data(), "");
                if (byId.containsKey(n.id)) {
                    throw new LoroException(row.where() + ": field 'message_id' " + n.id + " is a duplicate of "
                            + byId.get(n.id).where);
                }
                byId.put(n.id, n);
            } catch (LoroException e) {
                bad.handle(e);
            }
        }
        // link flat rows by parent_id (tree-export nodes are linked already)
        for (Node n : byId.values()) {
            if (n.parentId != null && n.parent == null && byId.containsKey(n.parentId)) {
                n.parent = byId.get(n.parentId);
                n.parent.children.add(n);
            }
        }
        for (Node n : byId.values()) {
            if (n.parent != null) {
                continue;
            }
            if (n.parentId != null) {
                orphans += size(n);
                continue;
            }
            try {
                if (!n.role.equals("prompter")) {
                    throw new LoroException(n.where + ": the root message of a tree must have role 'prompter', got '"
                            + n.role + "'");
                }
                if (n.removed) {
                    skipped += size(n);
                    continue;
                }
                prune(n);
                roots.add(n);
            } catch (LoroException e) {
                bad.handle(e);
            }
        }
    }

    /** Puts the nodes of a tree-export tree into byId (ids checked for duplicates). */
    private static void adopt(Node n, Map<String, Node> byId) {
        if (byId.containsKey(n.id)) {
            throw new LoroException(n.where + ": message_id " + n.id + " is a duplicate of " + byId.get(n.id).where);
        }
        byId.put(n.id, n);
        for (Node c : n.children) {
            adopt(c, byId);
        }
    }

    /** Removes deleted/rejected subtrees below n (counted), checks role alternation, counts kept messages. */
    private void prune(Node n) {
        messages++;
        List<Node> keep = new ArrayList<>();
        for (Node c : n.children) {
            if (c.removed) {
                skipped += size(c);
                continue;
            }
            if (c.role.equals(n.role)) {
                throw new LoroException(c.where + ": message " + c.id + " has role '" + c.role
                        + "' like its parent; oasst roles alternate prompter/assistant");
            }
            keep.add(c);
        }
        n.children.clear();
        n.children.addAll(keep);
        for (Node c : keep) {
            prune(c);
        }
    }

    private static int size(Node n) {
        int s = 1;
        for (Node c : n.children) {
            s += size(c);
        }
        return s;
    }

    private static Node treeNode(Row row, JsonNode obj, String at, Node parent) {
        if (obj == null || !obj.isObject()) {
            throw new LoroException(row.where() + ": '" + at.substring(0, at.length() - 1)
                    + "' must be a message object, got " + PreferenceFormat.type(obj));
        }
        Node n = node(row, obj, at);
        n.parent = parent;
        JsonNode replies = obj.get("replies");
        if (replies != null && !replies.isNull()) {
            if (!replies.isArray()) {
                throw new LoroException(row.where() + ": field '" + at + "replies' must be a list, got "
                        + PreferenceFormat.type(replies));
            }
            for (int i = 0; i < replies.size(); i++) {
                n.children.add(treeNode(row, replies.get(i), at + "replies[" + i + "].", n));
            }
        }
        return n;
    }

    private static Node node(Row row, JsonNode obj, String at) {
        String id = scalar(row, obj, "message_id", at);
        JsonNode p = obj.get("parent_id");
        String parentId = p == null || p.isNull() ? null : p.asText();
        String role = DatasetFormat.string(row, obj, "role", at, true);
        if (!role.equals("prompter") && !role.equals("assistant")) {
            throw new LoroException(row.where() + ": field '" + at + "role' is '" + role
                    + "'; allowed: prompter, assistant");
        }
        String text = DatasetFormat.string(row, obj, "text", at, false);
        Integer rank = null;
        JsonNode r = obj.get("rank");
        if (r != null && !r.isNull()) {
            if (!r.canConvertToInt() || !(r.isIntegralNumber() || r.isNumber() && r.asDouble() == Math.rint(r.asDouble()))) {
                throw new LoroException(row.where() + ": field '" + at + "rank' must be an integer or null, got "
                        + r);
            }
            rank = r.asInt();
        }
        boolean deleted = bool(obj.get("deleted"), false);
        boolean reviewOk = bool(obj.get("review_result"), true);
        String where = at.isEmpty() ? row.where() : row.where() + " " + at.substring(0, at.length() - 1);
        return new Node(id, parentId, role, text, rank, deleted || !reviewOk, where);
    }

    private static String scalar(Row row, JsonNode obj, String field, String at) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull() || v.asText().isEmpty()) {
            throw new LoroException(row.where() + ": field '" + at + field + "' is missing");
        }
        if (!v.isValueNode()) {
            throw new LoroException(row.where() + ": field '" + at + field + "' must be a string, got "
                    + PreferenceFormat.type(v));
        }
        return v.asText();
    }

    private static boolean bool(JsonNode v, boolean dflt) {
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        String s = v.asText().trim().toLowerCase(java.util.Locale.ROOT);
        return s.equals("true") || s.equals("1") ? true : s.equals("false") || s.equals("0") ? false : dflt;
    }

    // ---- outputs --------------------------------------------------------------------------------

    /** All pairs of all trees; a pair that fails validation (e.g. identical replies) goes to bad. */
    public List<PreferencePair> pairs(BadRows bad) {
        List<PreferencePair> out = new ArrayList<>();
        List<ChatMessage> path = new ArrayList<>();
        for (Node root : roots) {
            pairs(root, path, out, bad);
        }
        return out;
    }

    private static void pairs(Node n, List<ChatMessage> path, List<PreferencePair> out, BadRows bad) {
        path.add(message(n));
        if (n.role.equals("prompter")) {
            List<Node> ranked = new ArrayList<>();
            for (Node c : n.children) {
                if (c.rank != null) {
                    ranked.add(c);
                }
            }
            ranked.sort(Comparator.comparingInt(c -> c.rank));
            for (int i = 0; i < ranked.size(); i++) {
                for (int j = i + 1; j < ranked.size(); j++) {
                    Node a = ranked.get(i);
                    Node b = ranked.get(j);
                    if (a.rank.equals(b.rank)) {
                        continue;
                    }
                    try {
                        out.add(new PreferencePair(path, List.of(message(a)), List.of(message(b)), null,
                                n.where + " (replies " + a.id + " > " + b.id + ")"));
                    } catch (LoroException e) {
                        bad.handle(e);
                    }
                }
            }
        }
        for (Node c : n.children) {
            pairs(c, path, out, bad);
        }
        path.remove(path.size() - 1);
    }

    /** The top-ranked path of each tree, ending at its last assistant message (trees without one are left out). */
    public List<Conversation> topRankedConversations() {
        List<Conversation> out = new ArrayList<>();
        for (Node root : roots) {
            List<ChatMessage> path = new ArrayList<>();
            int lastAssistant = -1;
            for (Node n = root; n != null; n = best(n)) {
                path.add(message(n));
                if (n.role.equals("assistant")) {
                    lastAssistant = path.size();
                }
            }
            if (lastAssistant > 0) {
                out.add(new Conversation(path.subList(0, lastAssistant), root.where));
            }
        }
        return out;
    }

    /** The best-ranked child; the only child when none is ranked; otherwise null. */
    private static Node best(Node n) {
        Node best = null;
        for (Node c : n.children) {
            if (c.rank != null && (best == null || c.rank < best.rank)) {
                best = c;
            }
        }
        if (best == null && n.children.size() == 1) {
            best = n.children.get(0);
        }
        return best;
    }

    private static ChatMessage message(Node n) {
        return new ChatMessage(n.role.equals("prompter") ? "user" : "assistant", n.text);
    }
}
