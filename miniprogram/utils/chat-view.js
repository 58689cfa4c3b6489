// Binds a ChatClient to a page: keeps the page's chat data (messages,
// likes, online and viewer counts, announcement, whether the user may send)
// in step with the client, so pages stay thin.

const { clock } = require('./format')

/** displayName is a user's name for the chat, or a short stand-in. */
function displayName(user) {
  if (!user) return '游客'
  if (user.name) return user.name
  return `用户${String(user.id || '').slice(-4)}`
}

function view(m, me) {
  return {
    id: m.id,
    seq: m.seq,
    userId: m.user ? m.user.id : '',
    name: displayName(m.user),
    text: m.text,
    time: clock(m.ts),
    mine: !!(me && m.user && m.user.id === me.id),
  }
}

/**
 * bindChat wires client to page (a page or component instance with
 * setData). Data keys: messages, likes, online, viewers, pinned, canSend,
 * canModerate, chatState, muted. It returns a function that unbinds.
 */
function bindChat(page, client, options) {
  const max = (options && options.maxMessages) || 100
  let messages = []
  const set = data => page.setData(data)
  const push = list => {
    messages = messages.concat(list.map(m => view(m, client.user)))
    if (messages.length > max) messages = messages.slice(messages.length - max)
    set({ messages, lastMessageId: messages.length ? `m${messages[messages.length - 1].seq}` : '' })
  }
  const offs = [
    client.on('welcome', w => set({
      likes: client.likes,
      online: w.online || 0,
      viewers: w.viewers || 0,
      pinned: w.pinned || '',
      canSend: client.canSend,
      canModerate: client.canModerate,
      muted: !!w.muted_until,
    })),
    client.on('history', h => {
      if (!h.resumed) messages = []
      push(h.messages)
    }),
    client.on('message', m => push([m])),
    // Messages fetched after a skip: put in their places by seq.
    client.on('missed', g => {
      const have = new Set(messages.map(m => m.id))
      const add = g.messages.filter(m => !have.has(m.id)).map(m => view(m, client.user))
      if (!add.length) return
      messages = messages.concat(add).sort((a, b) => a.seq - b.seq)
      if (messages.length > max) messages = messages.slice(messages.length - max)
      set({ messages, lastMessageId: `m${messages[messages.length - 1].seq}` })
    }),
    client.on('deleted', d => {
      messages = messages.filter(m => m.id !== d.id)
      set({ messages })
    }),
    client.on('likes', l => set({ likes: l.total })),
    client.on('presence', p => set({ online: p.online, viewers: p.viewers })),
    client.on('notice', n => {
      if (n.kind === 'pinned' || n.kind === 'unpinned') set({ pinned: client.pinned })
    }),
    client.on('muted', () => set({ canSend: false, muted: true })),
    client.on('unmuted', () => set({ canSend: client.canSend, muted: false })),
    client.on('state', s => set({ chatState: s.state, canSend: client.canSend })),
  ]
  return () => offs.forEach(off => off())
}

module.exports = { bindChat, displayName }
