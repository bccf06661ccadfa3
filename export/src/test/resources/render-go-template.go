// Renders an Ollama TEMPLATE with Go's text/template (the engine Ollama uses) over .Messages, for
// export/src/test/java/ai/loro/export/OllamaGoTemplateTest.java.
// Usage: go run render-go-template.go TEMPLATE_FILE MESSAGES_JSON_FILE
package main

import (
	"encoding/json"
	"os"
	"text/template"
)

type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func main() {
	tmpl, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	raw, err := os.ReadFile(os.Args[2])
	if err != nil {
		panic(err)
	}
	var messages []Message
	if err := json.Unmarshal(raw, &messages); err != nil {
		panic(err)
	}
	t := template.Must(template.New("ollama").Parse(string(tmpl)))
	if err := t.Execute(os.Stdout, map[string]any{"Messages": messages}); err != nil {
		panic(err)
	}
}
