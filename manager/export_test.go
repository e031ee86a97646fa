package manager

// ParkedForTest returns how many requests an in-process server holds parked, over all
// its connections.
func ParkedForTest(m *Manager) int {
	if m.srv == nil {
		return 0
	}
	m.srv.mu.Lock()
	defer m.srv.mu.Unlock()
	n := 0
	for id := range m.srv.conns {
		n += m.srv.state.Parked(id)
	}
	return n
}
