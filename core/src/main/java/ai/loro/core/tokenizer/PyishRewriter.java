package ai.loro.core.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites the Python-only parts of a Jinja chat template into forms Jinjava evaluates the same way,
 * only inside {@code {{ }}} and {@code {% %}} (never in text, comments, string literals or raw
 * blocks):
 *
 * <ul>
 *   <li>Python str methods {@code x.startswith(a)}, endswith, strip/lstrip/rstrip(chars), split,
 *       upper, lower, title, capitalize become {@code (x|py_startswith(a))} etc. (Jinjava has no
 *       such String methods, and Java's split is a regex split that drops trailing empty parts);
 *   <li>slices with a step {@code x[a:b:c]} become {@code (x|py_slice(a,b,c))};
 *   <li>{@code namespace(k=expr)} arguments are parenthesised, {@code namespace(k=(expr))}, because
 *       Jinjava cannot parse a named argument whose value contains an operator.
 * </ul>
 */
final class PyishRewriter {
    static final Set<String> STR_METHODS = Set.of(
            "startswith", "endswith", "strip", "lstrip", "rstrip", "split", "upper", "lower", "title",
            "capitalize");
    private static final Pattern METHOD = Pattern.compile("\\.\\s*([A-Za-z_]+)\\s*\\(");
    private static final Pattern RAW_OPEN = Pattern.compile("^-?\\s*raw\\s*-?$");
    private static final Pattern RAW_CLOSE = Pattern.compile("\\{%-?\\s*endraw\\s*-?%\\}");

    private PyishRewriter() {}

    static String rewrite(String src) {
        StringBuilder out = new StringBuilder(src.length() + 64);
        int i = 0;
        int n = src.length();
        while (i < n) {
            int open = nextOpen(src, i);
            if (open < 0) {
                out.append(src, i, n);
                break;
            }
            out.append(src, i, open);
            char kind = src.charAt(open + 1);
            if (kind == '#') {
                int end = src.indexOf("#}", open + 2);
                end = end < 0 ? n : end + 2;
                out.append(src, open, end);
                i = end;
                continue;
            }
            int bodyStart = open + 2;
            int bodyEnd = findClose(src, bodyStart, kind == '{' ? '}' : '%');
            if (bodyEnd < 0) { // unterminated: leave it to Jinjava to report
                out.append(src, open, n);
                break;
            }
            String body = src.substring(bodyStart, bodyEnd);
            out.append(src, open, bodyStart);
            if (kind == '%' && RAW_OPEN.matcher(body.trim()).matches()) {
                Matcher m = RAW_CLOSE.matcher(src);
                int rawEnd = m.find(bodyEnd) ? m.end() : n;
                out.append(src, bodyStart, rawEnd);
                i = rawEnd;
                continue;
            }
            out.append(rewriteExpression(body));
            out.append(src, bodyEnd, bodyEnd + 2);
            i = bodyEnd + 2;
        }
        return out.toString();
    }

    private static int nextOpen(String s, int from) {
        for (int j = from; j < s.length() - 1; j++) {
            if (s.charAt(j) == '{') {
                char c = s.charAt(j + 1);
                if (c == '{' || c == '%' || c == '#') {
                    return j;
                }
            }
        }
        return -1;
    }

    /** Index of the closing "}}" or "%}" of a body starting at from, outside strings and braces. */
    private static int findClose(String s, int from, char closer) {
        int depth = 0;
        for (int j = from; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '\'' || c == '"') {
                j = endOfString(s, j);
                if (j < 0) {
                    return -1;
                }
                continue;
            }
            if (c == closer && j + 1 < s.length() && s.charAt(j + 1) == '}' && (depth == 0 || closer == '%')) {
                return j;
            }
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
            }
        }
        return -1;
    }

    /** Index of the closing quote of the string literal opening at q, or -1. */
    private static int endOfString(String s, int q) {
        char quote = s.charAt(q);
        for (int j = q + 1; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '\\') {
                j++;
            } else if (c == quote) {
                return j;
            }
        }
        return -1;
    }

    /** mask[j] is true where s[j] is part of a string literal (quotes included). */
    private static boolean[] stringMask(String s) {
        boolean[] mask = new boolean[s.length()];
        for (int j = 0; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '\'' || c == '"') {
                int end = endOfString(s, j);
                if (end < 0) {
                    end = s.length() - 1;
                }
                for (int k = j; k <= end; k++) {
                    mask[k] = true;
                }
                j = end;
            }
        }
        return mask;
    }

    static String rewriteExpression(String e) {
        e = rewriteNamespaceArgs(e);
        for (int guard = 0; guard < 1000; guard++) {
            String next = rewriteFirst(e);
            if (next == null) {
                return e;
            }
            e = next;
        }
        return e;
    }

    private static boolean isIdent(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /** Rewrites the first str-method call or stepped slice; null when there is none. */
    private static String rewriteFirst(String e) {
        boolean[] mask = stringMask(e);
        for (int j = 0; j < e.length(); j++) {
            if (mask[j]) {
                continue;
            }
            char c = e.charAt(j);
            if (c == '.') {
                Matcher m = METHOD.matcher(e);
                m.region(j, e.length());
                if (m.lookingAt() && STR_METHODS.contains(m.group(1))) {
                    int start = receiverStart(e, j, mask);
                    if (start == j) {
                        continue;
                    }
                    int argOpen = m.end() - 1;
                    int argClose = matching(e, argOpen, mask, '(', ')');
                    if (argClose < 0) {
                        return null;
                    }
                    return e.substring(0, start) + "(" + e.substring(start, j) + "|py_" + m.group(1) + "("
                            + e.substring(argOpen + 1, argClose) + "))" + e.substring(argClose + 1);
                }
            } else if (c == '[') {
                int close = matching(e, j, mask, '[', ']');
                if (close < 0) {
                    return null;
                }
                List<String> parts = splitTopLevel(e.substring(j + 1, close), ':');
                if (parts.size() == 3) {
                    int start = receiverStart(e, j, mask);
                    if (start == j) {
                        continue;
                    }
                    StringBuilder args = new StringBuilder();
                    for (String p : parts) {
                        if (args.length() > 0) {
                            args.append(", ");
                        }
                        args.append(p.isBlank() ? "none" : "(" + p.trim() + ")");
                    }
                    return e.substring(0, start) + "(" + e.substring(start, j) + "|py_slice(" + args + "))"
                            + e.substring(close + 1);
                }
            }
        }
        return null;
    }

    /** Start of the postfix expression (names, attributes, calls, subscripts, a literal) ending before end. */
    private static int receiverStart(String e, int end, boolean[] mask) {
        int p = end - 1;
        while (p >= 0) {
            char c = e.charAt(p);
            if (mask[p]) {
                while (p >= 0 && mask[p]) {
                    p--;
                }
                break; // a string literal is a primary: nothing before it belongs to the receiver
            } else if (c == ')' || c == ']') {
                int open = matchingBack(e, p, mask, c == ')' ? '(' : '[', c);
                if (open < 0) {
                    return end;
                }
                p = open - 1;
            } else if (isIdent(c) || c == '.') {
                p--;
            } else {
                break;
            }
        }
        return p + 1;
    }

    private static int matching(String e, int open, boolean[] mask, char o, char cl) {
        int depth = 0;
        for (int j = open; j < e.length(); j++) {
            if (mask[j]) {
                continue;
            }
            char c = e.charAt(j);
            if (c == o) {
                depth++;
            } else if (c == cl && --depth == 0) {
                return j;
            }
        }
        return -1;
    }

    private static int matchingBack(String e, int close, boolean[] mask, char o, char cl) {
        int depth = 0;
        for (int j = close; j >= 0; j--) {
            if (mask[j]) {
                continue;
            }
            char c = e.charAt(j);
            if (c == cl) {
                depth++;
            } else if (c == o && --depth == 0) {
                return j;
            }
        }
        return -1;
    }

    /** Splits s at sep where not nested in brackets or strings. */
    private static List<String> splitTopLevel(String s, char sep) {
        boolean[] mask = stringMask(s);
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int last = 0;
        for (int j = 0; j < s.length(); j++) {
            if (mask[j]) {
                continue;
            }
            char c = s.charAt(j);
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == sep && depth == 0) {
                parts.add(s.substring(last, j));
                last = j + 1;
            }
        }
        parts.add(s.substring(last));
        return parts;
    }

    private static final Pattern NAMESPACE = Pattern.compile("(?<![A-Za-z0-9_.])namespace\\s*\\(");
    private static final Pattern NAMED_ARG = Pattern.compile("^(\\s*[A-Za-z_][A-Za-z0-9_]*\\s*)=(?!=)(.*)$",
            Pattern.DOTALL);

    private static String rewriteNamespaceArgs(String e) {
        boolean[] mask = stringMask(e);
        Matcher m = NAMESPACE.matcher(e);
        StringBuilder out = new StringBuilder();
        int last = 0;
        while (m.find()) {
            if (mask[m.start()]) {
                continue;
            }
            int open = m.end() - 1;
            int close = matching(e, open, mask, '(', ')');
            if (close < 0) {
                break;
            }
            out.append(e, last, open + 1);
            List<String> args = splitTopLevel(e.substring(open + 1, close), ',');
            for (int a = 0; a < args.size(); a++) {
                if (a > 0) {
                    out.append(',');
                }
                Matcher na = NAMED_ARG.matcher(args.get(a));
                String value = na.matches() ? na.group(2).trim() : null;
                if (value != null && !value.isEmpty()) {
                    out.append(na.group(1)).append("=(").append(value).append(')');
                } else {
                    out.append(args.get(a));
                }
            }
            out.append(')');
            last = close + 1;
        }
        out.append(e.substring(last));
        return out.toString();
    }
}
