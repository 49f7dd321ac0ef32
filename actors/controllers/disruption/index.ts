/** The disruption controller (PodDisruptionBudget status) and its pure status computation. */
export { disruptionController } from './disruption-controller.js';
export { budgetStatusChanged, computeBudgetStatus, scaledValue, type BudgetInputs, type BudgetResult, type PodController } from './budget-status.js';
export { disruptionLimits } from './limits.js';
