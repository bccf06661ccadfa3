package ai.loro.core.tokenizer;

import ai.loro.core.io.PyJson;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The filters, functions and tags that make Jinjava render chat templates as transformers does. */
final class PyFunctions {
    private PyFunctions() {}

    /** Carries a raise_exception message out of the render, whatever Jinjava does with the exception. */
    static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    /** The template exception raised by {@code raise_exception(msg)}. */
    static final class TemplateRaise extends RuntimeException {
        TemplateRaise(String message) {
            super(message);
        }
    }

    /** Global function raise_exception(message): makes the render fail with that message. */
    public static Object raiseException(Object message) {
        String msg = String.valueOf(message);
        if (RAISED.get() == null) {
            RAISED.set(msg);
        }
        throw new TemplateRaise(msg);
    }

    /** Global function strftime_now(format): Python datetime.now().strftime(format). */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    static String strftime(ZonedDateTime t, String fmt) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            boolean noPad = false;
            if (d == '-' && i + 1 < fmt.length()) {
                noPad = true;
                d = fmt.charAt(++i);
            }
            int hour12 = t.getHour() % 12 == 0 ? 12 : t.getHour() % 12;
            switch (d) {
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.US));
                case 'd' -> sb.append(pad(t.getDayOfMonth(), 2, noPad));
                case 'e' -> sb.append(noPad ? String.valueOf(t.getDayOfMonth()) : String.format("%2d", t.getDayOfMonth()));
                case 'm' -> sb.append(pad(t.getMonthValue(), 2, noPad));
                case 'y' -> sb.append(pad(t.getYear() % 100, 2, noPad));
                case 'Y' -> sb.append(t.getYear());
                case 'H' -> sb.append(pad(t.getHour(), 2, noPad));
                case 'I' -> sb.append(pad(hour12, 2, noPad));
                case 'M' -> sb.append(pad(t.getMinute(), 2, noPad));
                case 'S' -> sb.append(pad(t.getSecond(), 2, noPad));
                case 'f' -> sb.append(String.format("%06d", t.getNano() / 1000));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> sb.append(pad(t.getDayOfYear(), 3, noPad));
                case 'Z' -> sb.append(t.getZone().getDisplayName(TextStyle.SHORT, Locale.US));
                case 'z' -> sb.append(t.getOffset().getId().equals("Z") ? "+0000" : t.getOffset().getId().replace(":", ""));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(noPad ? "-" : "").append(d);
            }
        }
        return sb.toString();
    }

    private static String pad(int v, int width, boolean noPad) {
        return noPad ? String.valueOf(v) : String.format("%0" + width + "d", v);
    }

    /** {@code tojson}: Python json.dumps with ensure_ascii=False, honouring indent. */
    static final class ToJsonFilter implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.get("indent");
            if (indent == null && args != null && args.length > 0) {
                indent = args[0];
            }
            String ind = null;
            if (indent instanceof Number n) {
                ind = " ".repeat(Math.max(0, n.intValue()));
            } else if (indent instanceof String s) {
                ind = s.matches("-?\\d+") ? " ".repeat(Math.max(0, Integer.parseInt(s))) : s;
            }
            return PyJson.dumps(var, ind);
        }
    }

    /** The Python str methods, as filters named py_&lt;method&gt; (see {@link PyishRewriter}). */
    static final class StrMethodFilter implements Filter {
        private final String method;

        StrMethodFilter(String method) {
            this.method = method;
        }

        @Override
        public String getName() {
            return "py_" + method;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (var == null) {
                throw new IllegalArgumentException("'NoneType' object has no attribute '" + method + "'");
            }
            String s = var.toString();
            Object a0 = args != null && args.length > 0 ? args[0] : null;
            Object a1 = args != null && args.length > 1 ? args[1] : null;
            return switch (method) {
                case "startswith" -> matchesAny(s, a0, true);
                case "endswith" -> matchesAny(s, a0, false);
                case "strip" -> rstrip(lstrip(s, a0), a0);
                case "lstrip" -> lstrip(s, a0);
                case "rstrip" -> rstrip(s, a0);
                case "split" -> split(s, a0 == null ? null : a0.toString(), a1 == null ? -1 : ((Number) num(a1)).intValue());
                case "upper" -> s.toUpperCase(Locale.ROOT);
                case "lower" -> s.toLowerCase(Locale.ROOT);
                case "capitalize" -> s.isEmpty() ? s
                        : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
                case "title" -> title(s);
                default -> throw new IllegalStateException(method);
            };
        }

        private static Object num(Object o) {
            return o instanceof Number ? o : Long.parseLong(o.toString());
        }

        private static boolean matchesAny(String s, Object prefix, boolean start) {
            if (prefix instanceof Collection<?> c) {
                for (Object p : c) {
                    if (start ? s.startsWith(String.valueOf(p)) : s.endsWith(String.valueOf(p))) {
                        return true;
                    }
                }
                return false;
            }
            String p = String.valueOf(prefix);
            return start ? s.startsWith(p) : s.endsWith(p);
        }

        private static boolean strips(int cp, Object chars) {
            return chars == null ? Character.isWhitespace(cp) || Character.isSpaceChar(cp)
                    : chars.toString().indexOf(cp) >= 0;
        }

        static String lstrip(String s, Object chars) {
            int i = 0;
            while (i < s.length() && strips(s.codePointAt(i), chars)) {
                i += Character.charCount(s.codePointAt(i));
            }
            return s.substring(i);
        }

        static String rstrip(String s, Object chars) {
            int j = s.length();
            while (j > 0 && strips(s.codePointBefore(j), chars)) {
                j -= Character.charCount(s.codePointBefore(j));
            }
            return s.substring(0, j);
        }

        static List<String> split(String s, String sep, int maxsplit) {
            List<String> out = new ArrayList<>();
            if (sep == null) {
                String rest = lstrip(s, null);
                while (!rest.isEmpty()) {
                    if (maxsplit >= 0 && out.size() == maxsplit) {
                        out.add(rstrip(rest, null));
                        return out;
                    }
                    int k = 0;
                    while (k < rest.length() && !strips(rest.codePointAt(k), null)) {
                        k += Character.charCount(rest.codePointAt(k));
                    }
                    out.add(rest.substring(0, k));
                    rest = lstrip(rest.substring(k), null);
                }
                return out;
            }
            if (sep.isEmpty()) {
                throw new IllegalArgumentException("empty separator");
            }
            int from = 0;
            while (maxsplit < 0 || out.size() < maxsplit) {
                int k = s.indexOf(sep, from);
                if (k < 0) {
                    break;
                }
                out.add(s.substring(from, k));
                from = k + sep.length();
            }
            out.add(s.substring(from));
            return out;
        }

        private static String title(String s) {
            StringBuilder sb = new StringBuilder();
            boolean prevCased = false;
            for (int i = 0; i < s.length(); ) {
                int cp = s.codePointAt(i);
                sb.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
                prevCased = Character.isLetter(cp);
                i += Character.charCount(cp);
            }
            return sb.toString();
        }
    }

    /** py_slice(start, stop, step): Python slicing with a step, on sequences and strings. */
    static final class SliceFilter implements Filter {
        @Override
        public String getName() {
            return "py_slice";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            List<Object> items = new ArrayList<>();
            boolean isString = var instanceof CharSequence;
            if (isString) {
                var.toString().codePoints().forEach(cp -> items.add(new String(Character.toChars(cp))));
            } else if (var instanceof Iterable<?> it) {
                it.forEach(items::add);
            } else if (var instanceof Object[] arr) {
                items.addAll(Arrays.asList(arr));
            } else if (var instanceof Iterator<?> it) {
                it.forEachRemaining(items::add);
            } else if (var != null) {
                throw new IllegalArgumentException("cannot slice " + var.getClass().getSimpleName());
            }
            int n = items.size();
            Long start = arg(args, 0);
            Long stop = arg(args, 1);
            Long stepL = arg(args, 2);
            long step = stepL == null ? 1 : stepL;
            if (step == 0) {
                throw new IllegalArgumentException("slice step cannot be zero");
            }
            List<Object> out = new ArrayList<>();
            if (step > 0) {
                long s = start == null ? 0 : clamp(start < 0 ? start + n : start, 0, n);
                long e = stop == null ? n : clamp(stop < 0 ? stop + n : stop, 0, n);
                for (long i = s; i < e; i += step) {
                    out.add(items.get((int) i));
                }
            } else {
                long s = start == null ? n - 1 : clamp(start < 0 ? start + n : start, -1, n - 1);
                long e = stop == null ? -1 : clamp(stop < 0 ? stop + n : stop, -1, n - 1);
                for (long i = s; i > e; i += step) {
                    out.add(items.get((int) i));
                }
            }
            if (isString) {
                return String.join("", out.stream().map(Object::toString).toList());
            }
            return out;
        }

        private static long clamp(long v, long lo, long hi) {
            return Math.max(lo, Math.min(hi, v));
        }

        private static Long arg(Object[] args, int i) {
            if (args == null || args.length <= i || args[i] == null) {
                return null;
            }
            Object o = args[i];
            if (o instanceof Number num) {
                return num.longValue();
            }
            String s = o.toString().trim();
            return s.isEmpty() || s.equals("none") || s.equals("None") ? null : Long.parseLong(s);
        }
    }

    /** {% generation %}...{% endgeneration %} (transformers' AssistantTracker): renders its body unchanged. */
    static final class GenerationTag implements Tag {
        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String getEndTagName() {
            return "endgeneration";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            StringBuilder sb = new StringBuilder();
            for (Node child : tagNode.getChildren()) {
                sb.append(child.render(interpreter).getValue());
            }
            return sb.toString();
        }
    }
}
