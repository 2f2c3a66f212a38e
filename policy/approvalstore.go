package policy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// The states of an approval request. A request is pending until an
// approver decides it or it expires; an approval is used by the one call
// that executes it.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
	ApprovalExpired  = "expired"
	ApprovalUsed     = "used"
)

// approvalPrefix starts every approval id.
const approvalPrefix = "apr_"

// approvalKeep is how long a request is kept after its first expiry, and
// listed as recent on the approval pages. It must be at least
// MaxApprovalTTL: an approval (which lives a TTL from its decision, before
// that first expiry) must outlive its use.
const approvalKeep = MaxApprovalTTL

// Approval is one request for a staff approval: what was asked, by whom,
// what WHMCS showed then, and what became of it. It lives in the
// ApprovalStore; nothing in it is a secret (secret arguments are kept as
// [redacted]).
type Approval struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Tool and Args (hex SHA-256 of the canonical arguments) name the
	// operation; Arguments are its arguments with secrets redacted, to
	// show it and re-read its preview.
	Tool      string          `json:"tool"`
	Args      string          `json:"args"`
	Arguments json.RawMessage `json:"arguments"`
	// Caller is the principal that asked, with its mode, tools and clients
	// (a retry must come from the same); Principal is its name, and
	// Subject/OAuthClient the OAuth token's sub and client id, if any.
	Caller      string `json:"caller"`
	Principal   string `json:"principal"`
	Subject     string `json:"sub,omitempty"`
	OAuthClient string `json:"oauth_client_id,omitempty"`
	// Policy is the digest of the policy the request was made under.
	Policy string `json:"policy"`
	// Rule says which rule of approvals.require asked for it.
	Rule string `json:"rule"`
	// ClientID and Label name the WHMCS client and record changed.
	ClientID int    `json:"clientid"`
	Label    string `json:"label"`
	// Preview is what the change would do, as WHMCS showed it when asked;
	// State is what the approval and the execution re-check.
	Preview *tools.Preview  `json:"preview"`
	State   json.RawMessage `json:"state"`
	Created time.Time       `json:"created"`
	// Expires is when a pending request expires, or when an approval
	// stops being usable.
	Expires time.Time `json:"expires"`
	// Approver, Reason and Decided record the decision.
	Approver string    `json:"approver,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Decided  time.Time `json:"decided,omitzero"`
}

// Open reports whether the request still waits for a decision at now.
func (a *Approval) Open(now time.Time) bool {
	return a.Status == ApprovalPending && now.Before(a.Expires)
}

// ApprovalStore keeps approval requests where every process that serves
// the tools or the approval pages sees them (memory, an SQLite file, or
// Redis). UpdateApproval must be atomic: of concurrent updates of one
// request from the same state, on any number of processes, exactly one
// succeeds.
type ApprovalStore interface {
	// PutApproval stores a new request, to be kept at least until keep.
	PutApproval(ctx context.Context, a *Approval, keep time.Time) error
	// Approval returns the request with id, or nil when there is none.
	Approval(ctx context.Context, id string) (*Approval, error)
	// UpdateApproval replaces the request a.ID with a if its status is
	// still from, and reports whether it did.
	UpdateApproval(ctx context.Context, a *Approval, from string) (bool, error)
	// Approvals returns up to limit requests, newest first.
	Approvals(ctx context.Context, limit int) ([]*Approval, error)
}

// newApprovalID returns a fresh random approval id (28 characters).
func newApprovalID() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return approvalPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// approvalIDLength is the length of every approval id issued.
const approvalIDLength = len(approvalPrefix) + 24

// WellFormedApprovalID reports whether s could be an approval id this
// server issued (what the approval pages accept in their paths).
func WellFormedApprovalID(s string) bool {
	if len(s) != approvalIDLength || !strings.HasPrefix(s, approvalPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s[len(approvalPrefix):])
	return err == nil && !strings.ContainsAny(s, "\r\n")
}

// memoryApprovals is an ApprovalStore in the memory of one process.
type memoryApprovals struct {
	mu    sync.Mutex
	items map[string]memoryApproval
	now   func() time.Time
}

type memoryApproval struct {
	data []byte // the JSON of the Approval, so that callers share nothing
	keep time.Time
}

// NewMemoryApprovals returns an empty in-memory ApprovalStore: requests die
// with the process.
func NewMemoryApprovals() ApprovalStore {
	return &memoryApprovals{items: map[string]memoryApproval{}, now: time.Now}
}

func (m *memoryApprovals) PutApproval(_ context.Context, a *Approval, keep time.Time) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for id, it := range m.items {
		if now.After(it.keep) {
			delete(m.items, id)
		}
	}
	if _, taken := m.items[a.ID]; taken {
		return fmt.Errorf("approval request %s exists already", a.ID)
	}
	m.items[a.ID] = memoryApproval{data: b, keep: keep}
	return nil
}

func (m *memoryApprovals) Approval(_ context.Context, id string) (*Approval, error) {
	m.mu.Lock()
	it, ok := m.items[id]
	m.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return DecodeApproval(it.data)
}

func (m *memoryApprovals) UpdateApproval(_ context.Context, a *Approval, from string) (bool, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[a.ID]
	if !ok {
		return false, nil
	}
	cur, err := DecodeApproval(it.data)
	if err != nil || cur.Status != from {
		return false, err
	}
	m.items[a.ID] = memoryApproval{data: b, keep: it.keep}
	return true, nil
}

func (m *memoryApprovals) Approvals(_ context.Context, limit int) ([]*Approval, error) {
	m.mu.Lock()
	var out []*Approval
	for _, it := range m.items {
		a, err := DecodeApproval(it.data)
		if err != nil {
			m.mu.Unlock()
			return nil, err
		}
		out = append(out, a)
	}
	m.mu.Unlock()
	SortApprovals(out)
	if len(out) > max(limit, 0) {
		out = out[:max(limit, 0)]
	}
	return out, nil
}

// SortApprovals sorts requests newest first (by id among equal times).
func SortApprovals(list []*Approval) {
	slices.SortFunc(list, func(a, b *Approval) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// DecodeApproval decodes a request as a store keeps it (its JSON).
func DecodeApproval(b []byte) (*Approval, error) {
	var a Approval
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	return &a, nil
}
