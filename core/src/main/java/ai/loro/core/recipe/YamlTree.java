package ai.loro.core.recipe;

import ai.loro.core.LoroException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A small YAML tree that remembers where every value came from ({@code recipe.yaml:12} or
 * {@code --set adapter.r}), built from SnakeYAML's compose tree (which keeps node marks). Mutable
 * only while overrides are applied; the validated result is the immutable {@link Recipe}.
 */
final class YamlTree {
    private YamlTree() {}

    private static final int MAX_DEPTH = 64;

    sealed interface YNode permits YScalar, YSeq, YMap {
        /** Where the value came from: {@code file:line} or {@code --set key}. */
        String where();
    }

    /** A scalar as written; {@code plain} is false for quoted or block scalars. */
    record YScalar(String text, boolean plain, String where) implements YNode {
        boolean isNull() {
            return plain && (text.isEmpty() || text.equals("~") || text.equalsIgnoreCase("null"));
        }
    }

    record YSeq(List<YNode> items, String where) implements YNode {}

    /** {@code entries} keep document order; each entry remembers where its key was written. */
    record YMap(LinkedHashMap<String, YEntry> entries, String where) implements YNode {}

    record YEntry(String keyWhere, YNode value) {}

    static boolean isNull(YNode n) {
        return n == null || (n instanceof YScalar s && s.isNull());
    }

    /** Parses one YAML document; null when it is empty. Syntax errors name the file and line. */
    static YNode parse(String text, String label) {
        Node root;
        try {
            root = new Yaml(new LoaderOptions()).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            throw new LoroException(syntaxMessage(label, e), e);
        } catch (YAMLException e) {
            throw new LoroException(label + ": malformed YAML: " + LoroException.oneLine(e.getMessage()), e);
        }
        return root == null ? null : convert(root, label, null, 0);
    }

    /** Parses the value of {@code --set key=value} as YAML; every node is attributed to {@code where}. */
    static YNode parseValue(String value, String where) {
        if (value.isBlank()) {
            return new YScalar("", true, where);
        }
        Node root;
        try {
            root = new Yaml(new LoaderOptions()).compose(new StringReader(value));
        } catch (MarkedYAMLException e) {
            String ctx = e.getContext() == null ? "" : " (" + LoroException.oneLine(e.getContext()) + ")";
            throw new LoroException(where + ": malformed YAML value '" + value + "': "
                    + LoroException.oneLine(e.getProblem()) + ctx, e);
        } catch (YAMLException e) {
            throw new LoroException(where + ": malformed YAML value '" + value + "': " + LoroException.oneLine(e.getMessage()), e);
        }
        return root == null ? new YScalar("", true, where) : convert(root, null, where, 0);
    }

    private static String syntaxMessage(String label, MarkedYAMLException e) {
        Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
        String at = m == null ? label : label + ":" + (m.getLine() + 1);
        String col = m == null ? "" : " (column " + (m.getColumn() + 1) + ")";
        String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
        String ctx = e.getContext() != null ? ", " + e.getContext() : "";
        if (e.getContextMark() != null && e.getProblemMark() != null && e.getContext() != null
                && e.getContextMark().getLine() != e.getProblemMark().getLine()) {
            ctx += " started at line " + (e.getContextMark().getLine() + 1);
        }
        return at + ": malformed YAML: " + LoroException.oneLine(problem) + col + LoroException.oneLine(ctx);
    }

    private static String where(Node n, String label, String fixed) {
        return fixed != null ? fixed : label + ":" + (n.getStartMark().getLine() + 1);
    }

    private static YNode convert(Node n, String label, String fixed, int depth) {
        String at = where(n, label, fixed);
        if (depth > MAX_DEPTH) {
            throw new LoroException(at + ": the YAML nests too deeply (a recursive alias?)");
        }
        if (n instanceof ScalarNode s) {
            return new YScalar(s.getValue(), s.getScalarStyle() == DumperOptions.ScalarStyle.PLAIN, at);
        }
        if (n instanceof SequenceNode s) {
            List<YNode> items = new ArrayList<>();
            for (Node item : s.getValue()) {
                items.add(convert(item, label, fixed, depth + 1));
            }
            return new YSeq(items, at);
        }
        MappingNode m = (MappingNode) n;
        LinkedHashMap<String, YEntry> entries = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            String keyAt = where(t.getKeyNode(), label, fixed);
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                throw new LoroException(keyAt + ": a key must be a plain name, got a "
                        + (t.getKeyNode() instanceof SequenceNode ? "list" : "block"));
            }
            YEntry prev = entries.get(k.getValue());
            if (prev != null) {
                throw new LoroException(keyAt + ": duplicate key '" + k.getValue() + "' (first at "
                        + prev.keyWhere() + ")");
            }
            entries.put(k.getValue(), new YEntry(keyAt, convert(t.getValueNode(), label, fixed, depth + 1)));
        }
        return new YMap(entries, at);
    }

    /** How a value is named in "got ..." messages. */
    static String describe(YNode n) {
        if (n instanceof YScalar s) {
            return "'" + s.text() + "'";
        }
        return n instanceof YSeq ? "a list" : "a block of keys";
    }

}
