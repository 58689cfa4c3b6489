// Runs the mini program's pages under miniprogram-simulate (with WeChat's
// own WXML compiler) in a jsdom document, with app.js launched against a
// real server through a wx shim.

const path = require('path')
const { JSDOM } = require('jsdom')

const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { pretendToBeVisual: true })
global.window = dom.window
global.document = dom.window.document
for (const k of ['Event', 'CustomEvent', 'Node', 'Element', 'HTMLElement', 'getComputedStyle', 'requestAnimationFrame']) {
  global[k] = dom.window[k]
}
const simulate = require('miniprogram-simulate')

const ROOT = path.resolve(__dirname, '../..')
const config = require('../../config')

let appDef = null
global.App = def => { appDef = def }
global.getApp = () => {
  if (!appDef) throw new Error('getApp: app.js was not launched')
  return appDef
}

/**
 * launch runs app.js with wx as the global wx and baseURL as the server, and
 * waits for its login. It returns the app.
 */
async function launch(wx, baseURL) {
  global.wx = wx
  config.baseURL = baseURL
  const file = path.join(ROOT, 'app.js')
  delete require.cache[require.resolve(file)]
  require(file)
  appDef.onLaunch()
  await appDef.ready
  return appDef
}

/**
 * open loads and renders pages/NAME/NAME, attaches it and calls its onLoad
 * with query. It resolves to the rendered component once onLoad finished.
 */
async function open(name, query) {
  const id = simulate.load(path.join(ROOT, `pages/${name}/${name}`), { rootPath: ROOT, compiler: 'official' })
  const page = simulate.render(id)
  page.attach(document.createElement('parent-wrapper'))
  await page.instance.onLoad(query || {})
  return page
}

// find walks toJSON() trees for nodes matching a predicate.
function findAll(node, pred, out = []) {
  if (!node || typeof node !== 'object') return out
  if (pred(node)) out.push(node)
  ;(node.children || []).forEach(c => findAll(c, pred, out))
  return out
}

function hasClass(node, cls) {
  const a = (node.attrs || []).find(x => x.name === 'class')
  return !!a && String(a.value).split(/\s+/).indexOf(cls) >= 0
}

function text(node) {
  if (typeof node === 'string') return node
  return (node.children || []).map(text).join('')
}

/**
 * nodes returns the rendered nodes of tag (e.g. 'live-player') or class
 * ('.state') as {attrs: {name: value}, text}.
 */
function nodes(page, selector) {
  const tree = page.toJSON()
  const pred = selector[0] === '.'
    ? n => hasClass(n, selector.slice(1))
    : n => n.tagName === `wx-${selector}` || n.tagName === selector
  return findAll(tree, pred).map(n => {
    const attrs = {}
    ;(n.attrs || []).forEach(a => { attrs[a.name] = a.value })
    return { attrs, text: text(n).trim(), node: n }
  })
}

/** one returns the only node matching selector, or throws. */
function one(page, selector) {
  const found = nodes(page, selector)
  if (found.length !== 1) throw new Error(`${selector}: ${found.length} nodes`)
  return found[0]
}

/** fire dispatches a component event (e.g. statechange) on the node with that id or class. */
async function fire(page, selector, type, detail) {
  const el = page.querySelector(selector)
  if (!el) throw new Error(`no ${selector} on the page`)
  el.dispatchEvent(type, { detail: detail || {} })
  await simulate.sleep(0)
}

module.exports = { launch, open, nodes, one, fire, sleep: simulate.sleep, ROOT }
