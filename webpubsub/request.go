package webpubsub

import (
	"context"
	"io"
	"net/http"
)

// run sends req and expects a 2xx status.
func (c *Client) run(ctx context.Context, op string, req *http.Request, err error) error {
	if err != nil {
		return invalidArg("%s: building the request: %v", op, err)
	}
	resp, err := c.pipe.do(ctx, op, req)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return newResponseError(op, resp, c.pipe.auth.secrets())
	}
	discard(resp)
	return nil
}

// exists sends a HEAD request: 200 is true, 404 false, anything else an
// error.
func (c *Client) exists(ctx context.Context, op string, req *http.Request, err error) (bool, error) {
	if err != nil {
		return false, invalidArg("%s: building the request: %v", op, err)
	}
	resp, err := c.pipe.do(ctx, op, req)
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		discard(resp)
		return true, nil
	case http.StatusNotFound:
		discard(resp)
		return false, nil
	}
	return false, newResponseError(op, resp, c.pipe.auth.secrets())
}

// sendBody prepares msg for req-building and makes a seekable stream
// replayable.
func sendBody(msg *Message) (io.Reader, func(*http.Request), error) {
	r, err := msg.bodyReader()
	if err != nil {
		return nil, nil, err
	}
	if msg.reader == nil {
		return r, nil, nil
	}
	rs, ok := msg.reader.(io.ReadSeeker)
	if !ok {
		return r, nil, nil
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return r, nil, nil // not really seekable: treat as a one-shot reader
	}
	size := int64(-1)
	if end, err := rs.Seek(0, io.SeekEnd); err == nil {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return nil, nil, invalidArg("Stream message: seeking back to the start failed: %v", err)
		}
		size = end - start
	}
	return r, func(req *http.Request) {
		if size >= 0 {
			req.ContentLength = size // a known length avoids chunked encoding
			if size == 0 {
				req.Body = http.NoBody
			}
		}
		req.GetBody = func() (io.ReadCloser, error) {
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, err
			}
			return io.NopCloser(rs), nil
		}
	}, nil
}
