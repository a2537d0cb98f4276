package setup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/logtide/logtide/worker/savedobjects"
)

// Import sends the saved objects to OpenSearch Dashboards' import API,
// replacing earlier copies (same ids), and returns how many it took.
func Import(ctx context.Context, client *http.Client, dashboardsURL string, objs []savedobjects.SavedObject) (int, error) {
	var file bytes.Buffer
	if err := savedobjects.WriteNDJSON(&file, objs); err != nil {
		return 0, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", "logtide.ndjson")
	if err != nil {
		return 0, err
	}
	if _, err := part.Write(file.Bytes()); err != nil {
		return 0, err
	}
	if err := mw.Close(); err != nil {
		return 0, err
	}
	u := strings.TrimRight(dashboardsURL, "/") + "/api/saved_objects/_import?overwrite=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body.Bytes()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("osd-xsrf", "true") // Dashboards refuses writes without it
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("POST %s: %d: %.300s", u, resp.StatusCode, b)
	}
	var res struct {
		Success      bool `json:"success"`
		SuccessCount int  `json:"successCount"`
		Errors       []struct {
			ID    string `json:"id"`
			Type  string `json:"type"`
			Error struct {
				Type string `json:"type"`
			} `json:"error"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return 0, fmt.Errorf("import answer %.300s: %w", b, err)
	}
	if !res.Success || len(res.Errors) > 0 {
		var errs []string
		for _, e := range res.Errors {
			errs = append(errs, e.Type+" "+e.ID+": "+e.Error.Type)
		}
		return res.SuccessCount, fmt.Errorf("%d objects refused: %s", len(res.Errors), strings.Join(errs, "; "))
	}
	return res.SuccessCount, nil
}
