// The kind catalogue sits below both the ticket core and the workflows (src/modules/kinds), so neither
// imports the other to learn the kinds; ticket code keeps importing it from here
export * from '../kinds/kinds.js'
