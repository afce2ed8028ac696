// The extension's icon: a small DAG.
import { LabIcon } from "@jupyterlab/ui-components";

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">
  <g class="jp-icon3" fill="#616161">
    <rect x="1.5" y="9" width="6" height="6" rx="1.5"/>
    <rect x="16.5" y="2.5" width="6" height="6" rx="1.5"/>
    <rect x="16.5" y="15.5" width="6" height="6" rx="1.5"/>
  </g>
  <path class="jp-icon3" stroke="#616161" fill="none" stroke-width="1.6" d="M7.5 12h4.5M12 12V5.5h4.5M12 12v6.5h4.5"/>
</svg>`;

export const workflowIcon = new LabIcon({ name: "dflow-lab:workflow", svgstr: svg });
