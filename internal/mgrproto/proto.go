// Package mgrproto is the Manager's request/response protocol and the server's object
// state machine. It does no I/O: a network server feeds it decoded requests per connection
// and writes the replies it returns, so the whole object model is tested (and fuzzed)
// without sockets or processes.
//
// Values are held as CBOR (wire.RawMessage): the server never needs the user's Go types,
// and nothing received is ever executed — only the fixed operations below, and the
// methods of types registered with RegisterType, can be called.
package mgrproto

import (
	"fmt"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// Frame kinds of the Manager protocol.
const (
	KindRequest  byte = wire.KindUser + 7
	KindResponse byte = wire.KindUser + 8
)

// Op is an operation code.
type Op uint8

// Operations. Which ones an object accepts depends on its kind.
const (
	OpInvalid Op = iota
	OpPing
	OpCreate   // Name: kind; Args: initial values; Int: size / count / parties
	OpFree     // drop the object
	OpCancel   // Int: the Seq of a blocked request of this connection
	OpShutdown // ask the server to stop (honoured by the network layer)
	OpCall     // custom object: Name is the method

	OpGet // dict: Args[0] key; list/array: Int index; value/ns: Name; queue: blocking get
	OpSet // dict: key, value; list/array: Int index, value; value: value; event: set
	OpDelete
	OpLen
	OpItems // dict: k0,v0,k1,v1...; list/array/queue: all values; ns: name0,v0,...
	OpUpdate
	OpGetOrSet
	OpPop
	OpHas
	OpClear
	OpAppend // list: Args appended (extend)
	OpInsert
	OpReverse
	OpIndex
	OpCount
	OpRemove
	OpAdd
	OpSwap
	OpCAS
	OpPut

	OpAcquire
	OpRelease
	OpLocked
	OpWait
	OpNotify // Int: n, or -1 for all
	OpIsSet
	OpAbort
	OpReset
	OpBroken
	OpParties
	OpWaiting
	OpValue
	OpPublish // Name: the name; Obj: the object (Int 0) — or drop the name when Obj is 0
	OpLookup  // Name: the name; reply Int: object id, Vals[0]: its kind
	opMax
)

var opNames = [...]string{
	OpInvalid: "invalid", OpPing: "ping", OpCreate: "create", OpFree: "free", OpCancel: "cancel",
	OpShutdown: "shutdown", OpCall: "call", OpGet: "get", OpSet: "set", OpDelete: "delete",
	OpLen: "len", OpItems: "items", OpUpdate: "update", OpGetOrSet: "getorset", OpPop: "pop",
	OpHas: "has", OpClear: "clear", OpAppend: "append", OpInsert: "insert", OpReverse: "reverse",
	OpIndex: "index", OpCount: "count", OpRemove: "remove", OpAdd: "add", OpSwap: "swap",
	OpCAS: "cas", OpPut: "put", OpAcquire: "acquire", OpRelease: "release", OpLocked: "locked",
	OpWait: "wait", OpNotify: "notify", OpIsSet: "isset", OpAbort: "abort", OpReset: "reset",
	OpBroken: "broken", OpParties: "parties", OpWaiting: "waiting", OpValue: "value",
	OpPublish: "publish", OpLookup: "lookup",
}

func (o Op) String() string {
	if o < opMax {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Object kinds, as named in OpCreate.
const (
	KindDict        = "dict"
	KindList        = "list"
	KindArray       = "array"
	KindNamespace   = "namespace"
	KindValue       = "value"
	KindQueue       = "queue"
	KindLock        = "lock"
	KindRLock       = "rlock"
	KindSemaphore   = "semaphore"
	KindBoundedSem  = "boundedsemaphore"
	KindCondition   = "condition"
	KindEvent       = "event"
	KindBarrier     = "barrier"
	CustomKindPrefx = "type:"
)

// Request is one call from a client. Seq is chosen by the client and unique among its
// requests in flight on one connection; every request gets exactly one Response.
type Request struct {
	Seq  uint64            `cbor:"1,keyasint"`
	Op   Op                `cbor:"2,keyasint"`
	Obj  uint64            `cbor:"3,keyasint,omitempty"`
	Name string            `cbor:"4,keyasint,omitempty"`
	Args []wire.RawMessage `cbor:"5,keyasint,omitempty"`
	Int  int64             `cbor:"6,keyasint,omitempty"`
	Try  bool              `cbor:"7,keyasint,omitempty"` // do not block
	Tok  uint64            `cbor:"8,keyasint,omitempty"` // owner token (RLock, Condition)
}

// Response answers the Request with the same Seq.
type Response struct {
	Seq  uint64            `cbor:"1,keyasint"`
	Err  *errs.Wire        `cbor:"2,keyasint,omitempty"`
	Vals []wire.RawMessage `cbor:"3,keyasint,omitempty"`
	Int  int64             `cbor:"4,keyasint,omitempty"`
	OK   bool              `cbor:"5,keyasint,omitempty"`
}

// DecodeRequest decodes a request payload. Anything malformed is an error; the caller
// closes the connection that sent it.
func DecodeRequest(p []byte) (*Request, error) {
	req := new(Request)
	if err := wire.Unmarshal(p, req); err != nil {
		return nil, fmt.Errorf("mp: malformed manager request: %w", err)
	}
	if req.Op == OpInvalid || req.Op >= opMax {
		return nil, fmt.Errorf("mp: malformed manager request: unknown op %d", uint8(req.Op))
	}
	return req, nil
}

// DecodeResponse decodes a response payload.
func DecodeResponse(p []byte) (*Response, error) {
	resp := new(Response)
	if err := wire.Unmarshal(p, resp); err != nil {
		return nil, fmt.Errorf("mp: malformed manager response: %w", err)
	}
	return resp, nil
}

// AppendRequestFrame appends req as a whole frame.
func AppendRequestFrame(dst []byte, req *Request) ([]byte, error) {
	return appendFrame(dst, KindRequest, req)
}

// AppendResponseFrame appends resp as a whole frame.
func AppendResponseFrame(dst []byte, resp *Response) ([]byte, error) {
	return appendFrame(dst, KindResponse, resp)
}

func appendFrame(dst []byte, kind byte, v any) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, wire.HeaderSize)...)
	dst, err := wire.AppendMarshal(dst, v)
	if err != nil {
		return dst[:start], err
	}
	wire.PutHeader(dst[start:], kind, len(dst)-start-wire.HeaderSize)
	return dst, nil
}

// Error codes private to the Manager protocol.
var (
	// ErrNoObject is returned for an object id the server does not hold.
	ErrNoObject = errs.New("mgr_no_object", "mp: manager has no such object")
	// ErrBadRequest is returned for an operation the object does not support or bad arguments.
	ErrBadRequest = errs.New("mgr_bad_request", "mp: bad manager request")
	// ErrNotFound is returned for a missing dict key, namespace attribute or list value.
	ErrNotFound = errs.New("mgr_not_found", "mp: not found")
	// ErrIndex is returned for a list or array index out of range.
	ErrIndex = errs.New("mgr_index", "mp: index out of range")
)

func errResp(seq uint64, err error) Response {
	return Response{Seq: seq, Err: errs.Encode(err, 0)}
}

func badf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, a...)...)
}
